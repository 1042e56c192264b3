/**
 * The Node.js versions the project runs on: 22 or newer (engines), 24 recommended (.nvmrc, and
 * the aws stage's nodejs24.x). Node 20 is past end of life and the AWS SDK drops it.
 */
export const MIN_NODE_MAJOR = 22;
export const RECOMMENDED_NODE_MAJOR = 24;

/** Why this Node cannot run the project, or undefined when it can. */
export function unsupportedNode(version: string = process.version): string | undefined {
  const major = Number(/^v?(\d+)\./.exec(version)?.[1]);
  if (Number.isFinite(major) && major >= MIN_NODE_MAJOR) return undefined;
  return `Node ${version} is not supported: this project needs Node ${MIN_NODE_MAJOR} or newer (${RECOMMENDED_NODE_MAJOR} recommended, see .nvmrc; e.g. \`nvm install ${RECOMMENDED_NODE_MAJOR}\`)`;
}
