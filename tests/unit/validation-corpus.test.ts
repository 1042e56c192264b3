// Every request check answers as recorded in tests/fixtures/validation-corpus.json: the same
// parsed value, or the same error class, status, code, message, field and details, including
// which error comes first when an input is wrong in several places.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { corpus, decodeCase, encodeCase, runCase, type Outcome } from '../helpers/validation-corpus';

const recorded = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'validation-corpus.json'), 'utf8')) as { case: unknown; outcome: Outcome }[];

test('the fixture holds the corpus the generator makes', () => {
  expect(recorded.map((r) => r.case)).toEqual(corpus().map(encodeCase));
  expect(recorded.length).toBeGreaterThan(2500);
});

test('every case answers as recorded', async () => {
  const mismatches: unknown[] = [];
  for (const r of recorded) {
    const got = await runCase(decodeCase(r.case));
    if (JSON.stringify(got) !== JSON.stringify(r.outcome)) mismatches.push({ case: r.case, expected: r.outcome, got });
  }
  expect(mismatches.slice(0, 10)).toEqual([]);
  expect(mismatches).toHaveLength(0);
});
