/**
 * The local bucket's disk fills up while the stack runs: an upload answers 503 naming s3 and
 * its storage, no half-written object is listed or served, and the stack keeps answering;
 * once space is freed, writes succeed again and a task whose result could not be stored
 * completes. Both ways the disk can be full are exercised on a small tmpfs of its own: the
 * file system's own ENOSPC, and LOCAL_DISK_RESERVE_MB refusing a write before it starts.
 * Mounting needs root; elsewhere these tests say so and do not run.
 */
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { closeClients } from '../../lib/core/clients';
import { getJson, stackClients } from '../helpers/shared-stack';
import { ROOT, startStack } from '../helpers/stack';
import { submit, waitForTask } from '../helpers/workers';

const PHOTO = readFileSync(path.join(ROOT, 'static', 'misurina-sunset.jpg')); // 1.1 MB
let SMALL: Buffer;
beforeAll(async () => {
  SMALL = await sharp(PHOTO).resize(320).jpeg({ quality: 70 }).toBuffer(); // about 15 KB
});

function mountTmpfs(sizeMb: number): string | undefined {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'storage-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

function unmount(dir: string) {
  execFileSync('umount', [dir]);
  rmSync(dir, { recursive: true, force: true });
}

const canMount = (() => {
  const dir = mountTmpfs(1);
  if (dir) unmount(dir);
  else console.warn('storage-full: cannot mount a tmpfs here (needs root); the disk-full tests do not run');
  return dir !== undefined;
})();
const whenMountable = canMount ? test : test.skip;

/** Uploads `image` under new names until one is refused. */
async function fillUntilRefused(url: string, image: Buffer, prefix: string, stored: string[]): Promise<{ name: string; status: number; body: any }> {
  for (let i = 0; i < 400; i++) {
    const name = `${prefix}-${i}.jpg`;
    const res = await fetch(`${url}/api/images/?name=${name}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(image) });
    const body = await res.json();
    if (res.status !== 201) return { name, status: res.status, body };
    stored.push(name);
  }
  throw new Error('the disk never filled');
}

for (const [label, sizeMb, reserveMb, failure] of [
  ['the file system itself is full (ENOSPC)', 8, '0', 'ENOSPC'],
  ['a write would go below LOCAL_DISK_RESERVE_MB', 16, '8', 'LOCAL_DISK_RESERVE_MB=8'],
] as const) {
  whenMountable(`${label}: 503 naming s3, nothing half-written, and writes work again once space is freed`, async () => {
    const dir = mountTmpfs(sizeMb)!;
    const stack = await startStack({ LOCAL_DATA_DIR: dir, LOCAL_DISK_RESERVE_MB: reserveMb, WORKERS: 'worker-1', VISIBILITY_TIMEOUT_S: '3', POLL_WAIT_S: '1' }, `storage-full-${reserveMb}`);
    const deps = stackClients(stack);
    try {
      const stored: string[] = [];
      const refused = await fillUntilRefused(stack.url, PHOTO, 'big', stored);
      expect(stored.length).toBeGreaterThanOrEqual(1);
      // Then small ones, until not even a small image fits: no result of a big one can either.
      expect((await fillUntilRefused(stack.url, SMALL, 'small', stored)).status).toBe(503);
      expect(refused.status).toBe(503);
      expect(refused.body.error).toMatchObject({ code: 'dependency_unavailable', dependency: 's3', message: expect.stringMatching(/^s3 is out of storage space/) });
      expect(stack.output()).toContain(failure);

      // Nothing half-written: not listed, not readable, no temporary file left behind.
      const listed = (await getJson(`${stack.url}/api/images/`)).body.images.map((i: { name: string }) => i.name);
      expect(listed).toEqual(expect.arrayContaining(stored));
      expect(listed).not.toContain(refused.name);
      expect((await getJson(`${stack.url}/api/image/info/?name=${refused.name}`)).status).toBe(404);
      expect(readdirSync(path.join(dir, 's3', '.tmp'))).toEqual([]);
      expect((await getJson(`${stack.url}/api/image/info/?name=${stored[0]}`)).status).toBe(200);

      // A task whose result cannot be stored is not lost: it completes once there is room.
      const [taskId] = await submit(stack, { filters: ['brightness'], images: [stored[0]] });
      await waitForTask(stack, taskId, (t) => t.attempts >= 2, 30_000);
      for (const name of stored) await deps.s3.send(new DeleteObjectCommand({ Bucket: deps.config.aws.bucket, Key: `source/${name}` }));
      const retried = await fetch(`${stack.url}/api/images/?name=${refused.name}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: new Uint8Array(PHOTO) });
      expect(retried.status).toBe(201);
      const done = await waitForTask(stack, taskId, (t) => t.status !== 'pending' && t.status !== 'processing', 90_000);
      expect(done.status).toBe('completed');
      expect((await getJson(`${stack.url}/api/health/`)).status).toBe(200);
    } finally {
      await closeClients(deps);
      await stack.stop();
      unmount(dir);
    }
  }, 180_000);
}
