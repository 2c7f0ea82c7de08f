// cjs-package.mjs: marks the CommonJS build as CommonJS, since the package itself is an ES module package.
import { writeFileSync } from 'node:fs';
writeFileSync(new URL('../dist/cjs/package.json', import.meta.url), '{ "type": "commonjs" }\n');
