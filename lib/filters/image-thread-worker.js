// Entry point of the local worker runner's image thread (image-thread.ts): plain JS so the
// thread starts without a TypeScript loader of its own; it registers tsx for the .ts modules.
'use strict';
require('tsx/cjs/api').register();
require('./image-thread-task');
