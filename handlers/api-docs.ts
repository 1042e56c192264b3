import { httpHandler, json } from '../lib/core/http';
import { parseWith } from '../lib/core/validate';
import { openApiDocument } from '../lib/api/openapi';
import { ReferenceAssetPath, referenceFile } from '../lib/api/reference';

/** GET /api/openapi.json — the OpenAPI 3.1 document, for this deployment's limits. */
export const openapiDocument = httpHandler(async (_req, deps) => json(200, openApiDocument(deps.config)), { public: true });

/** GET /api/docs/ and /api/docs/{asset} — the reference page (Swagger UI) and its files. */
export const reference = httpHandler(async (req) => {
  const asset = req.pathParams.asset === undefined ? 'index.html' : parseWith(ReferenceAssetPath, req.pathParams).asset;
  const file = await referenceFile(asset);
  return {
    statusCode: 200,
    headers: { 'content-type': file.contentType, 'cache-control': 'public, max-age=3600' },
    ...(file.binary ? { isBase64Encoded: true, body: file.body.toString('base64') } : { body: file.body.toString('utf8') }),
  };
}, { public: true });
