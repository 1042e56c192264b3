// npm start prints the AWS SDK's Node 20 end-of-support notice once; test processes need not repeat it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
