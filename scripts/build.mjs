/** `npm run build`: install what is missing and build the server and the extension. */
import { log, setup } from './setup.mjs';

setup();
log('Built.');
