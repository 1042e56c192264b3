import { MIN_NODE_MAJOR, RECOMMENDED_NODE_MAJOR, unsupportedNode } from '../../lib/core/node-version';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

test('Node 22 and newer run; older ones are refused with what to install', () => {
  expect(unsupportedNode('v22.0.0')).toBeUndefined();
  expect(unsupportedNode('v24.22.3')).toBeUndefined();
  expect(unsupportedNode('v26.1.0')).toBeUndefined();
  expect(unsupportedNode('v20.20.2')).toBe('Node v20.20.2 is not supported: this project needs Node 22 or newer (24 recommended, see .nvmrc; e.g. `nvm install 24`)');
  expect(unsupportedNode('v18.0.0')).toMatch(/needs Node 22 or newer/);
  expect(unsupportedNode('garbage')).toMatch(/not supported/);
});

test('engines, .nvmrc and the Lambda runtime agree with the declared versions', () => {
  const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  expect(pkg.engines.node).toBe(`>=${MIN_NODE_MAJOR}`);
  expect(readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim()).toBe(String(RECOMMENDED_NODE_MAJOR));
  const sls = readFileSync(path.join(ROOT, 'serverless.yml'), 'utf8');
  expect(sls).toMatch(new RegExp(`^  runtime: nodejs${RECOMMENDED_NODE_MAJOR}\\.x$`, 'm'));
  expect(sls).toMatch(new RegExp(`^    target: node${RECOMMENDED_NODE_MAJOR}$`, 'm'));
});
