// Kills what `npm start` started if `npm start` itself dies without cleaning up (SIGKILL,
// OOM killer): Linux does not take a process's children with it, and a worker or emulator
// left behind would hold ports and keep consuming the queue.
// Protocol on stdin, one line each: "watch <pid>" adds a pid; "release" means the parent
// stopped everything itself. End of stdin without "release" = the parent died: SIGTERM
// every watched pid, SIGKILL what is still there after a grace period, exit.
import { createInterface } from 'node:readline';

const GRACE_MS = 3000;
const watched = new Set();
let released = false;

function signal(pid, sig) {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [verb, arg] = line.trim().split(/\s+/);
  if (verb === 'watch' && Number.isInteger(Number(arg))) watched.add(Number(arg));
  if (verb === 'release') released = true;
});
lines.on('close', () => {
  if (released) process.exit(0);
  const left = [...watched].filter((pid) => signal(pid, 'SIGTERM'));
  if (left.length === 0) process.exit(0);
  setTimeout(() => {
    for (const pid of left) signal(pid, 'SIGKILL');
    process.exit(0);
  }, GRACE_MS);
});
// Signals to the terminal's process group are for npm start, which stops everything itself
// and then releases the reaper; only the end of stdin ends it.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => undefined);
