import type { APIGatewayRequestAuthorizerEventV2 } from 'aws-lambda';
import { apiKeys, authenticate } from '../lib/core/auth';
import { config } from '../lib/core/config';
import { AppError } from '../lib/core/errors';
import { log } from '../lib/core/log';

/**
 * The HTTP API's Lambda request authorizer (payload 2.0, simple responses): the same check the
 * local wrapper runs. The principal (a digest prefix, never the key) reaches the route's
 * function as requestContext.authorizer.lambda.principal, where it names the rate-limit counter.
 */
export const authorize = async (event: APIGatewayRequestAuthorizerEventV2): Promise<{ isAuthorized: boolean; context?: Record<string, string> }> => {
  const header = event.headers?.authorization ?? event.headers?.Authorization;
  try {
    const principal = authenticate(await apiKeys(config()), header);
    return { isAuthorized: true, context: { principal: principal.kind === 'key' ? principal.id : 'anonymous' } };
  } catch (e) {
    if (!(e instanceof AppError)) log.error('authorizer failed', { error: (e as Error).message });
    return { isAuthorized: false };
  }
};
