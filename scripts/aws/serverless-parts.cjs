// serverless.yml's bridge to scripts/aws/stack.ts: the framework loads `${file(x.cjs):part}`
// with require() and calls the exported function, so TypeScript is loaded here through tsx.
const { require: tsxRequire } = require('tsx/cjs/api');

const stack = tsxRequire('./stack.ts', __filename);

async function build(resolveVariable) {
  const number = async (ref) => Number(await resolveVariable(ref));
  const input = {
    service: await resolveVariable('self:service'),
    stage: await resolveVariable('sls:stage'),
    queueName: await resolveVariable('self:custom.names.queue'),
    dispatchMode: await resolveVariable("env:DISPATCH_MODE, ''"),
    workerMaxConcurrency: await number('self:custom.limits.workerMaxConcurrency'),
    visibilityTimeoutS: await number('self:custom.queue.visibilityTimeoutS'),
    maxReceiveCount: await number('self:custom.queue.maxReceiveCount'),
    apiKeysSecret: await resolveVariable("env:API_KEYS_SECRET, ''"),
    redisUrlSecret: await resolveVariable("env:REDIS_URL_SECRET, ''"),
    webhookSecretRef: await resolveVariable("env:WEBHOOK_SECRET_REF, ''"),
    resultTtlDays: await resolveVariable("env:RESULT_TTL_DAYS, ''"),
    vpcSubnetIds: await resolveVariable("env:VPC_SUBNET_IDS, ''"),
    vpcSecurityGroupIds: await resolveVariable("env:VPC_SECURITY_GROUP_IDS, ''"),
  };
  const vpc = stack.vpcOf(input);
  return {
    apiKeysSecret: stack.requiredApiKeysSecret(input),
    workerFunctions: stack.workerFunctions(input),
    workerFunctionNames: stack.workerFunctionNames(input),
    resources: stack.resources(input),
    lifecycleRules: stack.lifecycleRules(input),
    // Functions that use Redis join the VPC when one is configured; none otherwise.
    ...(vpc ? { vpc } : {}),
  };
}

// serverless.yml names five parts, and the framework calls this once per reference: build once.
let parts;
module.exports = ({ resolveVariable }) => {
  parts ??= build(resolveVariable);
  return parts;
};
