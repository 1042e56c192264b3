// The embedded emulator's bucket storage on disk: the same methods as fauxqs's in-memory
// S3Store (its routes call them synchronously), with every object in one file under `root`
// and only the listing (key, size, etag, dates, metadata) kept in memory. So objects survive
// a restart or a kill -9, and the emulator's memory does not grow with what it stores.
//
// Layout (docs/configuration.md, "Local data"):
//   <root>/<bucket>/bucket.json            the bucket's creation date
//   <root>/<bucket>/objects/<hh>/<sha256>  one object: 4-byte header length, JSON header, body
//   <root>/.tmp/                           writes in progress (removed on start)
//   <root>/.multipart/<upload id>/<part>   parts of multipart uploads in progress
// A write goes to .tmp/ first, is flushed, and is renamed into place: a reader sees the old
// object or the new one, never half of one. The file name is the key's hash, so no key can
// name a path outside `root`.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// fauxqs's routes recognise their own S3Error class (instanceof); its package exports only
// the app, so the class is loaded from the file the app itself imports (fauxqs is pinned).
const { S3Error } = await import(new URL('common/errors.js', import.meta.resolve('fauxqs')).href);

const HEADER_BYTES = 4;
const MIN_PART_SIZE = 5 * 1024 * 1024;
/** Errors that mean the disk cannot take this write (rather than a bug). */
const STORAGE_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO']);

const md5 = (buf) => createHash('md5').update(buf).digest();
const noSuchBucket = (name) => new S3Error('NoSuchBucket', `The specified bucket does not exist: ${name}`, 404);
const noSuchUpload = () =>
  new S3Error('NoSuchUpload', 'The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.', 404);
const invalidPart = () =>
  new S3Error('InvalidPart', "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.", 400);

export class DiskS3Store {
  /** @type {Map<string, Map<string, object>>} bucket → key → object without its body */
  buckets = new Map();
  bucketCreationDates = new Map();
  multipartUploads = new Map();
  spy = undefined;

  /**
   * @param {string} root folder that holds every bucket
   * @param {{ reserveBytes?: number }} options writes are refused (503) when they would leave
   *   less than reserveBytes free on root's file system
   */
  constructor(root, options = {}) {
    this.root = path.resolve(root);
    this.reserveBytes = options.reserveBytes ?? 0;
    this.tmp = path.join(this.root, '.tmp');
    this.partsRoot = path.join(this.root, '.multipart');
    fs.mkdirSync(this.root, { recursive: true });
    // What a killed process was writing never became an object: discard it.
    fs.rmSync(this.tmp, { recursive: true, force: true });
    fs.rmSync(this.partsRoot, { recursive: true, force: true });
    fs.mkdirSync(this.tmp, { recursive: true });
    this.load();
  }

  /** Rebuilds the listing from the object files' headers. */
  load() {
    for (const entry of fs.readdirSync(this.root, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const dir = path.join(this.root, entry.name);
      let created = new Date();
      try {
        created = new Date(JSON.parse(fs.readFileSync(path.join(dir, 'bucket.json'), 'utf8')).created);
      } catch {
        continue; // not a bucket folder
      }
      const objects = new Map();
      const objectsDir = path.join(dir, 'objects');
      for (const shard of fs.existsSync(objectsDir) ? fs.readdirSync(objectsDir) : []) {
        for (const file of fs.readdirSync(path.join(objectsDir, shard))) {
          const header = this.readHeader(path.join(objectsDir, shard, file));
          if (header) objects.set(header.key, header);
        }
      }
      this.buckets.set(entry.name, objects);
      this.bucketCreationDates.set(entry.name, created);
    }
  }

  readHeader(file) {
    const fd = fs.openSync(file, 'r');
    try {
      const len = Buffer.alloc(HEADER_BYTES);
      if (fs.readSync(fd, len, 0, HEADER_BYTES, 0) < HEADER_BYTES) return undefined;
      const json = Buffer.alloc(len.readUInt32BE(0));
      fs.readSync(fd, json, 0, json.length, HEADER_BYTES);
      const h = JSON.parse(json.toString('utf8'));
      return { ...h, lastModified: new Date(h.lastModified) };
    } catch {
      return undefined;
    } finally {
      fs.closeSync(fd);
    }
  }

  objectPath(bucket, key) {
    const hash = createHash('sha256').update(key).digest('hex');
    return path.join(this.root, bucket, 'objects', hash.slice(0, 2), hash);
  }

  /** Refuses a write the disk cannot take, before any byte of it is written. */
  checkSpace(bytes) {
    if (!this.reserveBytes) return;
    const s = fs.statfsSync(this.root);
    const free = s.bavail * s.bsize;
    if (free - bytes < this.reserveBytes) {
      throw new S3Error(
        'InsufficientStorage',
        `the emulator's data folder ${this.root} has ${Math.floor(free / 2 ** 20)} MB free; this ${Math.ceil(bytes / 2 ** 20)} MB write would leave less than LOCAL_DISK_RESERVE_MB=${Math.round(this.reserveBytes / 2 ** 20)}`,
        503,
      );
    }
  }

  /** Writes `chunks` to a temporary file, flushes it, and renames it to `dest`. */
  writeAtomically(dest, chunks) {
    const size = chunks.reduce((n, c) => n + c.length, 0);
    this.checkSpace(size);
    const tmp = path.join(this.tmp, randomBytes(12).toString('hex'));
    try {
      const fd = fs.openSync(tmp, 'wx', 0o600);
      try {
        for (const c of chunks) {
          let off = 0;
          while (off < c.length) off += fs.writeSync(fd, c, off, c.length - off);
        }
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.renameSync(tmp, dest);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      if (STORAGE_FULL_CODES.has(e.code)) {
        throw new S3Error('InsufficientStorage', `the emulator could not write to its data folder ${this.root}: ${e.code}`, 503);
      }
      throw e;
    }
  }

  createBucket(name) {
    if (this.buckets.has(name)) return;
    const created = new Date();
    this.writeAtomically(path.join(this.root, name, 'bucket.json'), [Buffer.from(JSON.stringify({ created }))]);
    this.buckets.set(name, new Map());
    this.bucketCreationDates.set(name, created);
  }

  deleteBucket(name) {
    const objects = this.objectsOf(name);
    if ([...this.multipartUploads.values()].some((u) => u.bucket === name)) {
      throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.', 409);
    }
    if (objects.size > 0) throw new S3Error('BucketNotEmpty', 'The bucket you tried to delete is not empty.', 409);
    fs.rmSync(path.join(this.root, name), { recursive: true, force: true });
    this.buckets.delete(name);
    this.bucketCreationDates.delete(name);
  }

  hasBucket(name) {
    return this.buckets.has(name);
  }

  listBuckets() {
    return [...this.buckets.keys()].map((name) => ({ name, creationDate: this.bucketCreationDates.get(name) })).sort((a, b) => a.name.localeCompare(b.name));
  }

  objectsOf(bucket) {
    const objects = this.buckets.get(bucket);
    if (!objects) throw noSuchBucket(bucket);
    return objects;
  }

  /** Stores an object whose body is the concatenation of `chunks`, with this etag. */
  store(bucket, key, chunks, etag, contentType, metadata) {
    const objects = this.objectsOf(bucket);
    const contentLength = chunks.reduce((n, c) => n + c.length, 0);
    const header = { key, contentType: contentType ?? 'application/octet-stream', contentLength, etag, lastModified: new Date(), metadata: metadata ?? {} };
    const json = Buffer.from(JSON.stringify(header));
    const len = Buffer.alloc(HEADER_BYTES);
    len.writeUInt32BE(json.length, 0);
    this.writeAtomically(this.objectPath(bucket, key), [len, json, ...chunks]);
    objects.set(key, header);
    return header;
  }

  putObject(bucket, key, body, contentType, metadata) {
    const obj = this.store(bucket, key, [body], `"${md5(body).toString('hex')}"`, contentType, metadata);
    return { ...obj, body };
  }

  headObject(bucket, key) {
    const obj = this.objectsOf(bucket).get(key);
    if (!obj) throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404, `/${bucket}/${key}`);
    return obj;
  }

  getObject(bucket, key) {
    const obj = this.headObject(bucket, key);
    let file;
    try {
      file = fs.readFileSync(this.objectPath(bucket, key));
    } catch (e) {
      if (e.code === 'ENOENT') {
        // Removed from disk behind the emulator's back (npm run clean, by hand): it is gone.
        this.objectsOf(bucket).delete(key);
        throw new S3Error('NoSuchKey', 'The specified key does not exist.', 404, `/${bucket}/${key}`);
      }
      throw e;
    }
    const start = HEADER_BYTES + file.readUInt32BE(0);
    return { ...obj, body: file.subarray(start) };
  }

  deleteObject(bucket, key) {
    const objects = this.objectsOf(bucket);
    if (!objects.has(key)) return;
    fs.rmSync(this.objectPath(bucket, key), { force: true });
    objects.delete(key);
  }

  deleteObjects(bucket, keys) {
    for (const key of keys) this.deleteObject(bucket, key);
    return keys;
  }

  listObjects(bucket, options) {
    const objectsMap = this.objectsOf(bucket);
    const prefix = options?.prefix ?? '';
    const delimiter = options?.delimiter;
    const maxKeys = options?.maxKeys ?? 1000;
    const startAfter = options?.startAfter ?? options?.marker ?? '';
    const keys = [...objectsMap.keys()].filter((k) => k.startsWith(prefix) && !(startAfter && k <= startAfter)).sort();
    const objects = [];
    const commonPrefixes = new Set();
    let isTruncated = false;
    for (const key of keys) {
      const rest = key.slice(prefix.length);
      const cut = delimiter ? rest.indexOf(delimiter) : -1;
      if (cut >= 0) {
        const common = prefix + rest.slice(0, cut + delimiter.length);
        if ((startAfter && common <= startAfter) || commonPrefixes.has(common)) continue;
        if (objects.length + commonPrefixes.size >= maxKeys) {
          isTruncated = true;
          break;
        }
        commonPrefixes.add(common);
        continue;
      }
      if (objects.length + commonPrefixes.size >= maxKeys) {
        isTruncated = true;
        break;
      }
      objects.push(objectsMap.get(key));
    }
    return { objects, commonPrefixes: [...commonPrefixes].sort(), isTruncated };
  }

  // --- Multipart uploads: parts on disk, the upload's description in memory ---

  createMultipartUpload(bucket, key, contentType, metadata) {
    this.objectsOf(bucket);
    const uploadId = randomUUID();
    this.multipartUploads.set(uploadId, { uploadId, bucket, key, contentType: contentType ?? 'application/octet-stream', metadata: metadata ?? {}, parts: new Map(), initiated: new Date() });
    return uploadId;
  }

  uploadPart(uploadId, partNumber, body) {
    const upload = this.multipartUploads.get(uploadId);
    if (!upload) throw noSuchUpload();
    const digest = md5(body);
    this.writeAtomically(path.join(this.partsRoot, uploadId, String(partNumber)), [body]);
    const etag = `"${digest.toString('hex')}"`;
    upload.parts.set(partNumber, { partNumber, etag, digest, size: body.length, lastModified: new Date() });
    return etag;
  }

  completeMultipartUpload(uploadId, partSpecs) {
    const upload = this.multipartUploads.get(uploadId);
    if (!upload) throw noSuchUpload();
    this.objectsOf(upload.bucket);
    for (let i = 1; i < partSpecs.length; i++) {
      if (partSpecs[i].partNumber <= partSpecs[i - 1].partNumber) {
        throw new S3Error('InvalidPartOrder', 'The list of parts was not in ascending order. The parts list must be specified in order by part number.', 400);
      }
    }
    const parts = partSpecs.map((spec) => {
      const part = upload.parts.get(spec.partNumber);
      if (!part || spec.etag.replaceAll('"', '') !== part.etag.replaceAll('"', '')) throw invalidPart();
      return part;
    });
    if (parts.slice(0, -1).some((p) => p.size < MIN_PART_SIZE)) {
      throw new S3Error('EntityTooSmall', 'Your proposed upload is smaller than the minimum allowed size', 400);
    }
    const bodies = parts.map((p) => fs.readFileSync(path.join(this.partsRoot, uploadId, String(p.partNumber))));
    const etag = `"${md5(Buffer.concat(parts.map((p) => p.digest))).toString('hex')}-${parts.length}"`;
    const obj = this.store(upload.bucket, upload.key, bodies, etag, upload.contentType, upload.metadata);
    this.abortMultipartUpload(uploadId);
    return obj;
  }

  abortMultipartUpload(uploadId) {
    if (!this.multipartUploads.delete(uploadId)) throw noSuchUpload();
    fs.rmSync(path.join(this.partsRoot, uploadId), { recursive: true, force: true });
  }

  /** Removes a bucket's objects and its multipart uploads; keeps the bucket. */
  emptyBucket(name) {
    const objects = this.buckets.get(name);
    if (!objects) return;
    fs.rmSync(path.join(this.root, name, 'objects'), { recursive: true, force: true });
    objects.clear();
    for (const [id, u] of this.multipartUploads) if (u.bucket === name) this.abortMultipartUpload(id);
  }

  clearObjects() {
    for (const name of this.buckets.keys()) this.emptyBucket(name);
  }

  purgeAll() {
    this.clearObjects();
    for (const name of [...this.buckets.keys()]) this.deleteBucket(name);
  }
}
