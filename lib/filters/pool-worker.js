// Entry point of the filter pool's worker threads when running from sources (npm start,
// tests): plain JS so a worker can start without a TypeScript loader; it registers tsx
// for the .ts modules. A bundled deployment has no such file: pool.ts then points piscina
// at the handler bundle itself, which exports the same poolTask.
'use strict';
require('tsx/cjs/api').register();
module.exports = require('./pool-task').poolTask;
