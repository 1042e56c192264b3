import { httpHandler, json } from '../lib/core/http';
import { imageInfo, listImages } from '../lib/images/source';
import { imageQuery, serveImage, slowDelayS } from '../lib/images/serve';
import { sleep } from '../lib/core/time';

/** GET /api/image/info/?name= — metadata without transferring the image. */
export const info = httpHandler(async (req, deps) => {
  const name = imageQuery(req);
  const [meta, available] = await Promise.all([imageInfo(deps, name), listImages(deps)]);
  return json(200, { ...meta, available_images: available });
});

/** GET /api/image/4k/?name= — the stored bytes, unchanged. */
export const fourK = httpHandler(async (req, deps) => serveImage(deps, imageQuery(req)));

/** GET /api/image/slow/?delay=&name= — the same after a validated delay. */
export const slow = httpHandler(async (req, deps) => {
  const delayS = slowDelayS(req, deps.config.limits.maxSlowDelayS);
  const name = imageQuery(req);
  await sleep(delayS * 1000);
  return serveImage(deps, name, { 'x-delay-s': String(delayS) });
});
