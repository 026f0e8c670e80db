import { ablateCommand } from './ablate.js';
import { augmentCommand } from './augment.js';
import type { Command } from './command.js';
import { datasetsCommand } from './datasets.js';
import { demoCommand } from './demo.js';
import { embedCommand } from './embed.js';
import { evalCommand } from './eval.js';
import { methodsCommand, modelsCommand } from './plugins.js';
import { profilesCommand } from './profiles.js';
import { recommendCommand } from './recommend.js';
import { reportCommand } from './report.js';
import { reproduceCommand } from './reproduce.js';
import { retrieveCommand } from './retrieve.js';
import { trainCommand } from './train.js';
import { tuneCommand } from './tune.js';
import { workerCommand } from './worker.js';

/** The registry of commands (explicit; importing it has no side effects). */
export const COMMANDS: Record<string, Command> = {
  demo: demoCommand,
  train: trainCommand,
  reproduce: reproduceCommand,
  ablate: ablateCommand,
  tune: tuneCommand,
  eval: evalCommand,
  report: reportCommand,
  recommend: recommendCommand,
  datasets: datasetsCommand,
  models: modelsCommand,
  methods: methodsCommand,
  profiles: profilesCommand,
  embed: embedCommand,
  retrieve: retrieveCommand,
  augment: augmentCommand,
  worker: workerCommand,
};
