/**
 * Source images live in the bucket under `source/`. Names are plain file names checked
 * against one pattern before any storage call, so no request can address anything
 * outside that prefix (no paths, no "..", no encoded separators).
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import sharp from 'sharp';
import { z } from 'zod';
import type { Clients } from '../core/clients';
import { bufferOver } from '../core/bytes';
import { InFlight } from '../core/in-flight';
import { dependency, httpStatus } from '../core/dependencies';
import { ImageRejectedError, NotFoundError } from '../core/errors';
import { explain, parseField } from '../core/validate';
import type { SourceCache } from './source-cache';

export const SOURCE_PREFIX = 'source/';
export const DEFAULT_IMAGE = 'sample_4k.jpg';
/** Extensions in either case, spelled out: a JSON Schema pattern has no flags. */
const EXTENSION = '([Jj][Pp][Ee]?[Gg]|[Pp][Nn][Gg]|[Ww][Ee][Bb][Pp]|[Aa][Vv][Ii][Ff]|[Tt][Ii][Ff][Ff]?)';
export const IMAGE_FILE = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\\.${EXTENSION}$`);
/** A name a request may use: an image file name without '..' anywhere. */
const IMAGE_NAME = new RegExp(`^(?!.*\\.\\.)[A-Za-z0-9][A-Za-z0-9._-]{0,99}\\.${EXTENSION}$`);
const NAME_RULE =
  "must be an image file name such as sample_4k.jpg: 1-100 letters, digits, '.', '_' or '-', ending in .jpg, .jpeg, .png, .webp, .avif, .tif or .tiff, with no path";

/** A source image's name as a request gives it: a plain file name, so no request can address anything outside source/. */
export const ImageName = explain(
  z.string().regex(IMAGE_NAME).meta({ description: `an image in the bucket's ${SOURCE_PREFIX}; ${NAME_RULE.replace(/^must be /, '')}`, examples: [DEFAULT_IMAGE] }),
  ({ raw, field }) => ({ message: typeof raw !== 'string' || raw.length === 0 ? `${field} ${NAME_RULE}` : `${field} ${NAME_RULE}; got ${JSON.stringify(raw.slice(0, 120))}` }),
);

/** A request's `images` list: 1 to max valid names; `hint` ends the message with what the list means for that endpoint. */
export function imageListSchema(max: number, hint: string) {
  return explain(z.array(ImageName).min(1).max(max).meta({ description: `1 to ${max} image names (${hint})` }), () => ({
    message: `images must be a list of 1 to ${max} image names (${hint})`,
    field: 'images',
  }));
}

const CONTENT_TYPES: Record<string, string> = {
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  avif: 'image/avif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
};

export function contentTypeFor(name: string): string {
  return CONTENT_TYPES[name.slice(name.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream';
}

/** Returns the name if it is a safe image file name, else throws a ValidationError for `field`. */
export function validateImageName(raw: unknown, field = 'name'): string {
  return parseField(ImageName, field, raw);
}

/** An S3 error that means "no such object". */
export function isMissing(e: unknown): boolean {
  const name = (e as Error)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || httpStatus(e) === 404;
}

/** Whether the bucket holds `key` (any key, not only under source/). */
export async function objectExists(deps: Clients, key: string): Promise<boolean> {
  try {
    await dependency('s3', () => deps.s3.send(new HeadObjectCommand({ Bucket: deps.config.aws.bucket, Key: key })));
    return true;
  } catch (e) {
    if (isMissing(e)) return false;
    throw e;
  }
}

export interface StoredImage {
  name: string;
  bytes: number;
  last_modified: string | null;
}

export async function listImages(deps: Clients): Promise<StoredImage[]> {
  const images: StoredImage[] = [];
  let token: string | undefined;
  do {
    const page = await dependency('s3', () =>
      deps.s3.send(new ListObjectsV2Command({ Bucket: deps.config.aws.bucket, Prefix: SOURCE_PREFIX, ContinuationToken: token })),
    );
    for (const o of page.Contents ?? []) {
      const name = o.Key!.slice(SOURCE_PREFIX.length);
      if (IMAGE_FILE.test(name)) images.push({ name, bytes: o.Size ?? 0, last_modified: o.LastModified?.toISOString() ?? null });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return images.sort((a, b) => a.name.localeCompare(b.name));
}

function notFound(name: string): NotFoundError {
  return new NotFoundError(`image ${JSON.stringify(name)} does not exist; GET /api/image/info/ lists the available images`, {
    field: 'name',
  });
}

/** readImage's conditional GET came back 304: the cached bytes are current. */
const NOT_MODIFIED: unique symbol = Symbol('not modified');

/**
 * The image's bytes. With `maxBytes`, an object larger than that is refused from the
 * response headers, before its body is downloaded. With `cache`, an image read before is
 * revalidated by its ETag (S3 answers 304 without the body while it is unchanged) and the
 * bytes read are kept for the next call. With `etag` too (the ETag a task was submitted
 * with), a kept copy with that very ETag is used without asking S3 at all: it is the image
 * as it was when the task was accepted, even if it has been replaced since. A task whose
 * version is not kept reads the image as it is now.
 */
export async function readImage(
  deps: Clients,
  name: string,
  opts: { maxBytes?: number; cache?: SourceCache; etag?: string } = {},
): Promise<{ bytes: Buffer; contentType: string; etag?: string }> {
  const cached = opts.cache?.get(name);
  // A kept entry always has an ETag, so this holds only for the very version the caller names.
  if (cached && cached.etag === opts.etag) return { ...cached };
  try {
    const res = await dependency('s3', () =>
      deps.s3.send(new GetObjectCommand({ Bucket: deps.config.aws.bucket, Key: SOURCE_PREFIX + name, IfNoneMatch: cached?.etag })).catch((e): typeof NOT_MODIFIED => {
        // The SDK reports 304 as an error; here it is the answer asked for.
        if (cached && httpStatus(e) === 304) return NOT_MODIFIED;
        throw e;
      }),
    );
    if (res === NOT_MODIFIED) return { ...cached! };
    if (opts.maxBytes !== undefined && (res.ContentLength ?? 0) > opts.maxBytes) {
      (res.Body as { destroy?: () => void } | undefined)?.destroy?.();
      opts.cache?.delete(name);
      throw new ImageRejectedError(`image ${name} is ${res.ContentLength} bytes; the limit is ${opts.maxBytes}`, { field: 'image' });
    }
    const body = await res.Body!.transformToByteArray();
    // A Buffer over the SDK's own array, not a copy of it (1.2 MB for the 4K sample, per task).
    const bytes = bufferOver(body);
    const contentType = res.ContentType || contentTypeFor(name);
    if (opts.cache && res.ETag) opts.cache.set(name, { etag: res.ETag, bytes, contentType });
    return { bytes, contentType, etag: res.ETag };
  } catch (e) {
    if (isMissing(e)) {
      opts.cache?.delete(name);
      throw notFound(name);
    }
    throw e;
  }
}

export async function presignImage(deps: Clients, name: string): Promise<string> {
  return getSignedUrl(deps.s3, new GetObjectCommand({ Bucket: deps.config.aws.bucket, Key: SOURCE_PREFIX + name }), {
    expiresIn: deps.config.aws.presignTtlS,
  });
}

/** HEADs in flight per S3 client: a burst of submissions of one image asks S3 once (lib/core/in-flight.ts). */
const headsInFlight = new WeakMap<Clients['s3'], InFlight<HeadObjectCommandOutput>>();

export async function headImage(deps: Clients, name: string) {
  let heads = headsInFlight.get(deps.s3);
  if (!heads) headsInFlight.set(deps.s3, (heads = new InFlight()));
  const key = SOURCE_PREFIX + name;
  try {
    return await heads.run(`${deps.config.aws.bucket}/${key}`, () => dependency('s3', () => deps.s3.send(new HeadObjectCommand({ Bucket: deps.config.aws.bucket, Key: key }))));
  } catch (e) {
    if (isMissing(e)) throw notFound(name);
    throw e;
  }
}

export type ImageMetadata = Awaited<ReturnType<typeof describeImage>>;

/** What sharp reads from the image header, in the API's field names. */
export async function describeImage(bytes: Buffer) {
  const m = await sharp(bytes).metadata();
  return {
    width: m.width ?? null,
    height: m.height ?? null,
    megapixels: m.width && m.height ? Math.round((m.width * m.height) / 1e4) / 100 : null,
    format: m.format ?? null,
    channels: m.channels ?? null,
    color_space: m.space ?? null,
    bit_depth: m.depth ?? null,
    density_dpi: m.density ?? null,
    chroma_subsampling: m.chromaSubsampling ?? null,
    progressive: m.isProgressive ?? false,
    has_alpha: m.hasAlpha ?? false,
    has_exif: m.exif !== undefined,
    has_icc_profile: m.icc !== undefined,
    orientation: m.orientation ?? null,
  };
}

// Metadata is derived from immutable bytes, so caching it per ETag is always correct.
const metadataCache = new Map<string, ImageMetadata>();
const METADATA_CACHE_MAX = 256;

export async function imageInfo(deps: Clients, name: string) {
  const head = await headImage(deps, name);
  const cacheKey = `${name}|${head.ETag}`;
  let meta = metadataCache.get(cacheKey);
  if (!meta) {
    meta = await describeImage((await readImage(deps, name)).bytes);
    if (metadataCache.size >= METADATA_CACHE_MAX) metadataCache.delete(metadataCache.keys().next().value!);
    metadataCache.set(cacheKey, meta);
  }
  return {
    name,
    bytes: head.ContentLength ?? null,
    content_type: head.ContentType ?? contentTypeFor(name),
    etag: head.ETag?.replace(/"/g, '') ?? null,
    last_modified: head.LastModified?.toISOString() ?? null,
    ...meta,
  };
}
