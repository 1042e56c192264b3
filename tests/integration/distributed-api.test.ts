// Submission, status and queue depth on the shared stack, which runs no workers.
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { closeClients } from '../../lib/core/clients';
import { taskQueueUrl } from '../../lib/tasks/queues';
import { postJson } from '../helpers/batch';
import { getJson, sharedStack, stackClients } from '../helpers/shared-stack';

const stack = sharedStack();
const url = stack.url;

test('a submission is accepted at once with 202, task ids and where to poll', async () => {
  const res = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['resize', 'sharpen', 'edges'], filter_params: { resize: { width: 1024, height: 768 } } });
  expect(res.status).toBe(202);
  expect(res.body.task_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(res.body.task_ids).toEqual([res.body.task_id]);
  expect(res.body.status_url).toBe(`/api/task/${res.body.task_id}/status/`);
  expect(res.headers.get('location')).toBe(res.body.status_url);
  const status = await getJson(`${url}${res.body.status_url}`);
  expect(status.status).toBe(200);
  expect(status.body).toMatchObject({ task_id: res.body.task_id, status: 'pending', attempts: 0, image: 'sample_4k.jpg', filters: ['resize', 'sharpen', 'edges'] });
  expect(status.body.filter_params.resize).toEqual({ width: 1024, height: 768, fit: 'cover' });
  expect(status.body.explanation).toBe('No workers available to process task');
});

test('several images make one task each, and queue depth matches SQS', async () => {
  const deps = stackClients(stack);
  const res = await postJson(`${url}/api/process-batch/distributed/`, { filters: ['blur'], images: ['sample_4k.jpg', 'misurina-sunset.jpg', 'sample_4k.jpg'] });
  expect(res.status).toBe(202);
  expect(new Set(res.body.task_ids).size).toBe(3);
  const status = (await getJson(`${url}/api/workers/status/`)).body;
  const attrs = await deps.sqs.send(new GetQueueAttributesCommand({ QueueUrl: await taskQueueUrl(deps), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  expect(status.queue.visible).toBe(Number(attrs.Attributes!.ApproximateNumberOfMessages));
  expect(status.queue.in_flight).toBe(Number(attrs.Attributes!.ApproximateNumberOfMessagesNotVisible));
  expect(status.queue.visible).toBeGreaterThanOrEqual(3);
  expect(status.summary.alive).toBe(0);
  await closeClients(deps);
});

test.each([
  [{ filters: ['sepia'] }, 'filters[0]', 400],
  [{ filters: ['blur'], filter_params: { blur: { radius: -1 } } }, 'filter_params.blur.radius', 400],
  [{ filters: ['blur'], images: ['../secret.jpg'] }, 'images[0]', 400],
  [{ filters: ['blur'], copies: 2 }, 'copies', 400],
  [{ filters: ['blur'], images: ['missing.jpg'] }, 'name', 404],
])('bad submission %j → %s', async (body, field, status) => {
  const res = await postJson(`${url}/api/process-batch/distributed/`, body);
  expect(res.status).toBe(status);
  expect(res.body.error.field).toBe(field);
});

test('a malformed task id is a 400, an unknown one a 404', async () => {
  for (const bad of ['abc', '..%2F..%2Fetc', '12345678-1234-1234-1234-1234567890123']) {
    const res = await getJson(`${url}/api/task/${bad}/status/`);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 'validation_error', field: 'task_id' });
  }
  const unknown = await getJson(`${url}/api/task/${randomUUID()}/status/`);
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.code).toBe('not_found');
});
