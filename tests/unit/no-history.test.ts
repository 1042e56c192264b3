// The product describes itself as it is: no tracked file (code, comments, docs, test names)
// names the work session or the issue a change came from. Say the fact or the current number
// instead. Reads every file `git ls-files` lists, skipping binaries, the lock file and the
// vendored build artifacts, and lists file:line for each match.
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const PATTERNS: RegExp[] = [/sessions? \d+/i, /issues? #\d+/i];
const SKIPPED = [/(^|\/)node_modules\//, /^\.git\//, /(^|\/)package-lock\.json$/];

/** vendor/ holds built artifacts (the OpenCV.js build, megabytes of generated code); only its notes are prose. */
const isVendoredArtifact = (file: string) => file.startsWith('vendor/') && !file.endsWith('.md');

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out.split('\0').filter(Boolean);
}

/** A NUL byte in the first 8 KiB marks a binary file, as git decides it. */
function isBinary(buf: Buffer): boolean {
  return buf.subarray(0, 8192).includes(0);
}

test('no tracked text file names a work session or an issue number', () => {
  const files = trackedFiles();
  expect(files.length).toBeGreaterThan(50);
  const hits: string[] = [];
  for (const file of files) {
    if (SKIPPED.some((re) => re.test(file)) || isVendoredArtifact(file)) continue;
    const full = path.join(ROOT, file);
    let buf: Buffer;
    try {
      if (!statSync(full).isFile()) continue;
      buf = readFileSync(full);
    } catch {
      continue; // deleted in the work tree but not yet in the index
    }
    if (isBinary(buf)) continue;
    buf
      .toString('utf8')
      .split('\n')
      .forEach((line, i) => {
        const m = PATTERNS.map((re) => re.exec(line)).find(Boolean);
        if (m) hits.push(`${file}:${i + 1}: ${m[0]} — ${line.trim().slice(0, 160)}`);
      });
  }
  expect(hits).toEqual([]);
});
