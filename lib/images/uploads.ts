/**
 * Users' own images. POST /api/images/?name= takes application/octet-stream bodies up to
 * 10 MB (API Gateway's limit); bigger files go through a presigned PUT to a staging key,
 * then POST /api/images/uploads/{id}/complete/. Either way the bytes are verified before
 * anything lands in source/: a real, fully decodable image of an allowed format, within
 * the pixel cap, whose name's extension matches what it is.
 */
import { randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import sharp, { type Metadata } from 'sharp';
import { z } from 'zod';
import type { Clients } from '../core/clients';
import { dependency } from '../core/dependencies';
import { ConflictError, ImageRejectedError, NotFoundError, PayloadTooLargeError, UnsupportedMediaTypeError, ValidationError } from '../core/errors';
import { contentTypeFor, ImageName, isMissing, objectExists, SOURCE_PREFIX } from './source';
import { decimalNumber, explain, parseWith, UUID } from '../core/validate';

/**
 * A presigned upload URL lives 15 minutes, shorter than PRESIGN_TTL_S (for downloads):
 * long enough to PUT a file of MAX_INPUT_BYTES on a slow link, short enough that a leaked
 * URL cannot be used to overwrite the staging object much later.
 */
const UPLOAD_URL_TTL_S = 900;

export const MAX_DIRECT_UPLOAD_BYTES = 10 * 1024 * 1024;
/** Large uploads are staged here; the bucket's lifecycle rule and IAM (scripts/aws/stack.ts) use it too. */
export const STAGING_PREFIX = 'uploads/';

/** sharp's format name → the extensions a file of that format may have. */
const ALLOWED_FORMATS: Record<string, string[]> = {
  jpeg: ['jpg', 'jpeg'],
  png: ['png'],
  webp: ['webp'],
  heif: ['avif'],
  tiff: ['tif', 'tiff'],
};

export async function verifyImage(bytes: Buffer, name: string, maxPixels: number) {
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new ImageRejectedError(`${name} is not an image (allowed: JPEG, PNG, WebP, AVIF, TIFF)`);
  }
  const format = meta.format ?? 'unknown';
  const exts = ALLOWED_FORMATS[format];
  if (!exts || (format === 'heif' && meta.compression !== 'av1')) throw new ImageRejectedError(`${format} images are not accepted (allowed: JPEG, PNG, WebP, AVIF, TIFF)`);
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  if (!exts.includes(ext)) throw new ValidationError(`name ends in .${ext} but the file is ${format}; use .${exts[0]}`, { field: 'name' });
  const pixels = (meta.width ?? 0) * (meta.height ?? 0);
  if (!meta.width || !meta.height || pixels > maxPixels) {
    throw new ImageRejectedError(`image is ${meta.width}x${meta.height} = ${pixels} pixels; the limit is ${maxPixels} (refused from its header, not decoded)`);
  }
  try {
    // A full decode (at reduced size where the format allows) catches truncated or corrupt data.
    await sharp(bytes, { limitInputPixels: maxPixels, failOn: 'error' }).resize(64, 64, { fit: 'inside' }).raw().toBuffer();
  } catch (e) {
    throw new ImageRejectedError(`image data is truncated or corrupt: ${(e as Error).message}`);
  }
  return { format, width: meta.width, height: meta.height };
}

async function store(deps: Clients, name: string, bytes: Buffer, overwrite: boolean) {
  const key = SOURCE_PREFIX + name;
  if (!overwrite && (await objectExists(deps, key))) {
    throw new ConflictError(`image ${name} already exists; choose another name or add ?overwrite=true`, { field: 'name' });
  }
  const info = await verifyImage(bytes, name, deps.config.processing.maxInputPixels);
  await dependency('s3', () => deps.s3.send(new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: key, Body: bytes, ContentType: contentTypeFor(name) })));
  return { name, bytes: bytes.length, ...info, key };
}

const OVERWRITE_RULE = 'overwrite must be true or false';

/** POST /api/images/?name=&overwrite= */
export const UploadQuery = z.object({
  name: ImageName,
  overwrite: explain(z.enum(['true', 'false']).meta({ description: 'replace an image of that name' }), () => ({ message: OVERWRITE_RULE }))
    .default('false')
    .transform((v) => v === 'true'),
});

/** POST /api/images/uploads/{upload_id}/complete/ */
export const UploadIdPath = z.object({
  upload_id: explain(z.string().regex(UUID).meta({ description: 'the upload_id POST /api/images/uploads/ returned' }), () => ({
    message: 'upload id must be the upload_id that POST /api/images/uploads/ returned',
    field: 'upload_id',
  })),
});

export const CompleteUploadBody = z.object({
  name: ImageName.meta({ description: 'the name given to POST /api/images/uploads/' }),
  overwrite: explain(z.union([z.boolean(), z.enum(['true', 'false'])]).meta({ description: 'replace an image of that name' }), () => ({ message: OVERWRITE_RULE }))
    .optional()
    .transform((v) => v === true || v === 'true'),
});

const startBodies = new Map<number, ReturnType<typeof buildStartBody>>();

function buildStartBody(maxBytes: number) {
  const bytes = explain(decimalNumber(1, maxBytes, { integer: true, unit: "bytes (the file's exact size)", description: "the file's exact size in bytes; the URL is signed for it" }), ({ raw, inherited }) =>
    typeof raw === 'number' && Number.isInteger(raw) && raw > maxBytes
      ? { message: `bytes is ${raw}; uploads take at most ${maxBytes} bytes (MAX_INPUT_BYTES)`, error: PayloadTooLargeError }
      : inherited!(),
  );
  return z.object({ name: ImageName, bytes });
}

/** POST /api/images/uploads/ {name, bytes}, for this deployment's MAX_INPUT_BYTES. */
export function startUploadBodySchema(maxBytes: number) {
  let s = startBodies.get(maxBytes);
  if (!s) startBodies.set(maxBytes, (s = buildStartBody(maxBytes)));
  return s;
}

export interface DirectUpload {
  /** The request's media type, without parameters, lower case ('' when absent). */
  mediaType: string;
  name: string | undefined;
  overwrite: string | undefined;
  body: Buffer;
}

export async function uploadDirect(deps: Clients, upload: DirectUpload) {
  const type = upload.mediaType;
  if (type !== 'application/octet-stream') {
    // API Gateway passes image/* bodies through as text, which corrupts them.
    throw new UnsupportedMediaTypeError(`send the file as Content-Type: application/octet-stream (got ${type || 'none'})`, { field: 'content-type' });
  }
  const { name } = parseWith(UploadQuery.pick({ name: true }), { name: upload.name });
  const body = upload.body;
  if (body.length === 0) throw new ValidationError('the body is empty: send the image bytes', { field: 'body' });
  if (body.length > MAX_DIRECT_UPLOAD_BYTES) {
    throw new PayloadTooLargeError(`body is ${body.length} bytes; direct uploads take at most ${MAX_DIRECT_UPLOAD_BYTES}: use POST /api/images/uploads/ for bigger files`, { field: 'body' });
  }
  const { overwrite } = parseWith(UploadQuery.pick({ overwrite: true }), { overwrite: upload.overwrite });
  return store(deps, name, body, overwrite);
}

/**
 * The size must be declared up front: the URL is signed for exactly that Content-Length and
 * the name's Content-Type, so S3 refuses any other body (SignatureDoesNotMatch) and a leaked
 * URL cannot stage a bigger file. Emulators do not check signatures; completeUpload checks the
 * size again either way.
 */
export async function startUpload(deps: Clients, body: Record<string, unknown>) {
  const maxBytes = deps.config.processing.maxInputBytes;
  const { name, bytes } = parseWith(startUploadBodySchema(maxBytes), body);
  const id = randomUUID();
  const key = `${STAGING_PREFIX}${id}/${name}`;
  const contentType = contentTypeFor(name);
  const url = await getSignedUrl(deps.s3, new PutObjectCommand({ Bucket: deps.config.aws.bucket, Key: key, ContentLength: bytes, ContentType: contentType }), {
    expiresIn: UPLOAD_URL_TTL_S,
    // Without these the presigner signs only the host, and any size or type would be accepted.
    signableHeaders: new Set(['content-length', 'content-type']),
  });
  return {
    upload_id: id,
    name,
    method: 'PUT',
    url,
    // The PUT must carry exactly these: they are part of the signature.
    headers: { 'Content-Type': contentType, 'Content-Length': String(bytes) },
    bytes,
    expires_in_s: UPLOAD_URL_TTL_S,
    max_bytes: maxBytes,
    complete_url: `/api/images/uploads/${id}/complete/`,
  };
}

export async function completeUpload(deps: Clients, rawId: string | undefined, body: Record<string, unknown>) {
  parseWith(UploadIdPath, { upload_id: rawId });
  const { name } = parseWith(CompleteUploadBody.pick({ name: true }), body);
  const key = `${STAGING_PREFIX}${rawId}/${name}`;
  const bucket = deps.config.aws.bucket;
  let head;
  try {
    head = await dependency('s3', () => deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key })));
  } catch (e) {
    if (isMissing(e)) {
      throw new NotFoundError(`nothing was uploaded for ${rawId}/${name}; PUT the file to the presigned URL first`, { field: 'upload_id' });
    }
    throw e;
  }
  try {
    if ((head.ContentLength ?? 0) > deps.config.processing.maxInputBytes) {
      throw new PayloadTooLargeError(`upload is ${head.ContentLength} bytes; the limit is ${deps.config.processing.maxInputBytes}`, { field: 'body' });
    }
    const obj = await dependency('s3', () => deps.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key })));
    const bytes = Buffer.from(await obj.Body!.transformToByteArray());
    // Checked once the staged file is found: a missing upload is a 404 whatever else the body says.
    const { overwrite } = parseWith(CompleteUploadBody.pick({ overwrite: true }), body);
    return await store(deps, name, bytes, overwrite);
  } finally {
    // Verified or refused, the staged file is not kept.
    await deps.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
  }
}
