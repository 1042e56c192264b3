/**
 * The image endpoints' domain: which image a request names, how long the slow endpoint
 * waits, and whether an image is served inline or from storage. Plain values in and out;
 * handlers/image.ts turns them into HTTP responses.
 */
import type { Clients } from '../core/clients';
import { optionalNumberInRange } from '../core/validate';
import { DEFAULT_IMAGE, headImage, presignImage, readImage, validateImageName } from './source';

/** API Gateway caps a Lambda response at 6 MB (base64 included); bigger images get a redirect to S3. */
export const MAX_INLINE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SLOW_DELAY_S = 2;

export type ServedImage =
  | { kind: 'inline'; name: string; bytes: Buffer; contentType: string }
  | { kind: 'redirect'; name: string; bytes: number; location: string; reason: string };

/** The `name` parameter, or the default sample when it is absent. */
export function imageName(raw: string | undefined): string {
  return raw === undefined ? DEFAULT_IMAGE : validateImageName(raw, 'name');
}

export function slowDelayS(raw: string | undefined, maxS: number): number {
  return optionalNumberInRange(raw, 'delay', DEFAULT_SLOW_DELAY_S, 0, maxS, { unit: 'seconds' });
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
