// Prints one plain closing line ("jest: N passed, N failed, N skipped") that CI tools can read.
// Under scripts/run-tests.mjs (JEST_SUMMARY_FILE set) it writes the counts and the failing
// tests to that file instead, and the runner prints one line for all its jest processes.
const { writeFileSync } = require('node:fs');
const path = require('node:path');

class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    const file = process.env.JEST_SUMMARY_FILE;
    if (!file) {
      process.stdout.write(`\njest: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`);
      return;
    }
    const failures = [];
    for (const r of results.testResults) {
      const rel = path.relative(process.cwd(), r.testFilePath);
      if (r.testExecError) failures.push({ file: rel, title: `did not run: ${String(r.testExecError.message).split('\n')[0]}` });
      for (const a of r.testResults) if (a.status === 'failed') failures.push({ file: rel, title: a.fullName });
    }
    // A file that could not run counts as one failure (jest counts no test of it).
    const failed = results.numFailedTests + results.testResults.filter((r) => r.testExecError).length;
    writeFileSync(file, JSON.stringify({ passed: results.numPassedTests, failed, skipped, failures }));
  }
}
module.exports = SummaryReporter;
