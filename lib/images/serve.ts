/** Request parsing and responses shared by the Day-1 image endpoints. */
import type { Clients } from '../core/clients';
import { binary, json, type Request, type Response } from '../core/http';
import { DEFAULT_IMAGE, headImage, presignImage, readImage, validateImageName } from './source';
import { optionalNumberInRange } from '../core/validate';

/** API Gateway caps a Lambda response at 6 MB (base64 included); bigger images get a redirect to S3. */
export const MAX_INLINE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SLOW_DELAY_S = 2;

export function imageQuery(req: Request): string {
  return req.query.name === undefined ? DEFAULT_IMAGE : validateImageName(req.query.name, 'name');
}

export function slowDelayS(req: Request, maxS: number): number {
  return optionalNumberInRange(req.query.delay, 'delay', DEFAULT_SLOW_DELAY_S, 0, maxS, { unit: 'seconds' });
}

export async function serveImage(deps: Clients, name: string, extraHeaders: Record<string, string> = {}): Promise<Response> {
  const head = await headImage(deps, name);
  if ((head.ContentLength ?? 0) > MAX_INLINE_BYTES) {
    const location = await presignImage(deps, name);
    return json(307, { name, bytes: head.ContentLength, location, reason: `images over ${MAX_INLINE_BYTES} bytes are served from storage` }, { location, ...extraHeaders });
  }
  const { bytes, contentType } = await readImage(deps, name);
  const res = binary(bytes, contentType, name);
  res.headers = { ...res.headers, ...extraHeaders };
  return res;
}
