#!/usr/bin/env node
// The `baton` command. It runs the built JavaScript of dist/; TypeScript files of the
// user's (experiments, tasks, settings, plugins) are loaded through tsx when met.
import '../dist/main.js';
