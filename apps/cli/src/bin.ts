#!/usr/bin/env node
import { endQuietlyOnClosedPipe } from './io.js';
import { main } from './main.js';

endQuietlyOnClosedPipe(process.stdout);
endQuietlyOnClosedPipe(process.stderr);

process.exitCode = await main(process.argv.slice(2));
