import { httpHandler, json, jsonBody, mediaType } from '../lib/core/http';
import { listImages } from '../lib/images/source';
import { completeUpload, startUpload, uploadDirect } from '../lib/images/uploads';

/** GET /api/images/ */
export const list = httpHandler(async (_req, deps) => json(200, { images: await listImages(deps) }));

/** POST /api/images/?name=x.jpg (application/octet-stream, ≤ 10 MB) */
export const upload = httpHandler(async (req, deps) => json(201, await uploadDirect(deps, { mediaType: mediaType(req), name: req.query.name, overwrite: req.query.overwrite, body: req.body })));

/** POST /api/images/uploads/ {name} → a presigned PUT URL for bigger files */
export const startLarge = httpHandler(async (req, deps) => json(201, await startUpload(deps, jsonBody(req))));

/** POST /api/images/uploads/{upload_id}/complete/ {name} → verified and stored */
export const completeLarge = httpHandler(async (req, deps) => json(201, await completeUpload(deps, req.pathParams.upload_id, jsonBody(req))));
