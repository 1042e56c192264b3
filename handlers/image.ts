import { binary, httpHandler, json, type Response } from '../lib/core/http';
import { sleep } from '../lib/core/time';
import { parseImageQuery, parseSlowQuery, serveImage, type ServedImage } from '../lib/images/serve';
import { imageInfo, listImages } from '../lib/images/source';

function imageResponse(served: ServedImage, extraHeaders: Record<string, string> = {}): Response {
  if (served.kind === 'redirect') {
    const { name, bytes, location, reason } = served;
    return json(307, { name, bytes, location, reason }, { location, ...extraHeaders });
  }
  const res = binary(served.bytes, served.contentType, served.name);
  res.headers = { ...res.headers, ...extraHeaders };
  return res;
}

/** GET /api/image/info/?name= — metadata without transferring the image. */
export const info = httpHandler(async (req, deps) => {
  const { name } = parseImageQuery(req.query);
  const [meta, available] = await Promise.all([imageInfo(deps, name), listImages(deps)]);
  return json(200, { ...meta, available_images: available });
});

/** GET /api/image/4k/?name= — the stored bytes, unchanged. */
export const fourK = httpHandler(async (req, deps) => imageResponse(await serveImage(deps, parseImageQuery(req.query).name)));

/** GET /api/image/slow/?delay=&name= — the same after a validated delay. */
export const slow = httpHandler(async (req, deps) => {
  const { delay: delayS, name } = parseSlowQuery(req.query, deps.config.limits.maxSlowDelayS);
  await sleep(delayS * 1000);
  return imageResponse(await serveImage(deps, name), { 'x-delay-s': String(delayS) });
});
