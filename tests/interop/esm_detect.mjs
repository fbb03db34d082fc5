// Registers esm_hook.mjs (see node.sh): only loaded by nodes older than 20.19.
import { register } from 'node:module';

register('./esm_hook.mjs', import.meta.url);
