// A load hook for nodes without module syntax detection (see node.sh): a file in node_modules
// whose name ends in .es.js and that the default loader would run as CommonJS is loaded as an ES
// module instead. Every other file loads as it would without the hook.
import { readFile } from 'node:fs/promises';

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (result.format === 'commonjs' && url.startsWith('file:') && url.includes('/node_modules/') &&
      url.endsWith('.es.js')) {
    const source = result.source ?? await readFile(new URL(url));
    return { format: 'module', source, shortCircuit: true };
  }
  return result;
}
