import { GetObjectCommand } from '@aws-sdk/client-s3';
import sharp from 'sharp';
import type { Clients } from '../../lib/core/clients';
import { getJson } from './shared-stack';

export function postJson(url: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }) {
  return getJson(url, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

/** Fetches a result back from the bucket and decodes it. */
export async function fetchResult(deps: Clients, key: string) {
  const obj = await deps.s3.send(new GetObjectCommand({ Bucket: deps.config.aws.bucket, Key: key }));
  const bytes = Buffer.from(await obj.Body!.transformToByteArray());
  return { bytes, meta: await sharp(bytes).metadata() };
}
