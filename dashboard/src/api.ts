/**
 * Requests to the API, with the dashboard's API-key handling: a deployment with API keys
 * answers 401; the page then asks once and keeps the key for this tab only (sessionStorage),
 * sending it as a bearer token on every request.
 */
export type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const KEY_STORAGE = 'image-pipeline.api-key';
let keyPrompt: Promise<void> | undefined;
let declined = false;

function send(path: string, init: RequestInit | undefined, key: string | null): Promise<Response> {
  const headers = new Headers(init?.headers);
  if (key) headers.set('authorization', `Bearer ${key}`);
  return fetch(path, { ...init, headers });
}

/** After a 401 for `refused`: ask, unless another request already got a newer key or the user said no. */
async function obtainKey(refused: string | null): Promise<void> {
  if (sessionStorage.getItem(KEY_STORAGE) !== refused || declined) return;
  keyPrompt ??= (async () => {
    const key = window.prompt(refused ? 'That API key was refused. Enter the API key:' : 'This API needs an API key. Enter it:');
    if (key === null || key.trim() === '') {
      declined = true;
    } else {
      sessionStorage.setItem(KEY_STORAGE, key.trim());
    }
  })().finally(() => (keyPrompt = undefined));
  await keyPrompt;
}

/** A JSON request with the stored key (asking for one after a 401); non-JSON answers become an error body. */
export async function api(path: string, init?: RequestInit): Promise<{ status: number; body: Json }> {
  let key = sessionStorage.getItem(KEY_STORAGE);
  let res = await send(path, init, key);
  for (let tries = 0; res.status === 401 && tries < 3 && !declined; tries++) {
    await obtainKey(key);
    if (declined) break;
    key = sessionStorage.getItem(KEY_STORAGE);
    res = await send(path, init, key);
  }
  const text = await res.text();
  let body: Json = null;
  try {
    body = JSON.parse(text);
  } catch {
    body = { error: { message: text.slice(0, 200) } };
  }
  return { status: res.status, body };
}

/** The user cancelled the key prompt: requests go on without a key until a reload. */
export const keyDeclined = () => declined;

/** The page holds an API key (requests send `Authorization: Bearer`). */
export const hasApiKey = () => sessionStorage.getItem(KEY_STORAGE) !== null;
