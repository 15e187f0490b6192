// The settings of a `use: tensorboard` block (a workspace's `services:`), and what
// `tensorboard({...})` takes in code.
import { z } from 'zod';

export const tensorboardSettings = z
  .strictObject({
    logdir: z
      .string()
      .min(1)
      .optional()
      .describe('Folder of the event files to show; "~", $VARS and paths relative to the settings file are resolved (default: the run folder of the experiment that starts it)'),
    command: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('The tensorboard command, e.g. [~/tb/bin/tensorboard] (default: $BATON_TENSORBOARD, else `tensorboard` on the PATH)'),
    reloadInterval: z.number().positive().optional().describe('Seconds between two scans of the log folder (TensorBoard\'s --reload_interval; its default: 5)'),
    args: z.array(z.string()).optional().describe('More arguments for tensorboard, e.g. [--load_fast=false]'),
    description: z.string().min(1).optional().describe('What the monitor shows (default: "TensorBoard on <logdir>")'),
    keep: z.boolean().default(false).describe('Leave it running when the experiment ends (default: stopped with it)'),
    startTimeout: z.number().positive().default(60).describe('Seconds TensorBoard may take to serve before it counts as failed'),
  })
  .describe('TensorBoard over a folder of event files, on a free port of 127.0.0.1');

export type TensorBoardSettings = z.output<typeof tensorboardSettings>;
export type TensorBoardSettingsInput = z.input<typeof tensorboardSettings>;
