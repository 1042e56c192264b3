/**
 * The image endpoints' domain: which image a request names, how long the slow endpoint
 * waits, and whether an image is served inline or from storage. Plain values in and out;
 * handlers/image.ts turns them into HTTP responses.
 */
import { z } from 'zod';
import type { Clients } from '../core/clients';
import { decimalNumber, parseWith } from '../core/validate';
import { DEFAULT_IMAGE, headImage, ImageName, presignImage, readImage } from './source';

/** API Gateway caps a Lambda response at 6 MB (base64 included); bigger images get a redirect to S3. */
export const MAX_INLINE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SLOW_DELAY_S = 2;

export type ServedImage =
  | { kind: 'inline'; name: string; bytes: Buffer; contentType: string }
  | { kind: 'redirect'; name: string; bytes: number; location: string; reason: string };

/** ?name= of the image endpoints: the default sample when it is absent. */
export const ImageQuery = z.object({ name: ImageName.default(DEFAULT_IMAGE) });

const slowQueries = new Map<number, ReturnType<typeof buildSlowQuery>>();

function buildSlowQuery(maxS: number) {
  return z.object({
    delay: decimalNumber(0, maxS, { unit: 'seconds', description: `seconds to wait before answering (MAX_SLOW_DELAY_S caps it at ${maxS})` }).default(DEFAULT_SLOW_DELAY_S),
    name: ImageName.default(DEFAULT_IMAGE),
  });
}

/** ?delay=&name= of the slow endpoint, for this deployment's maximum delay. */
export function slowQuerySchema(maxS: number) {
  let s = slowQueries.get(maxS);
  if (!s) slowQueries.set(maxS, (s = buildSlowQuery(maxS)));
  return s;
}

export function parseImageQuery(query: Record<string, string>): { name: string } {
  return parseWith(ImageQuery, query);
}

export function parseSlowQuery(query: Record<string, string>, maxS: number): { delay: number; name: string } {
  return parseWith(slowQuerySchema(maxS), query);
}

export async function serveImage(deps: Clients, name: string): Promise<ServedImage> {
  const head = await headImage(deps, name);
  const size = head.ContentLength ?? 0;
  if (size > MAX_INLINE_BYTES) {
    return { kind: 'redirect', name, bytes: size, location: await presignImage(deps, name), reason: `images over ${MAX_INLINE_BYTES} bytes are served from storage` };
  }
  const { bytes, contentType } = await readImage(deps, name);
  return { kind: 'inline', name, bytes, contentType };
}
