import { strict as assert } from 'node:assert';
import { Command, Option } from 'commander';
import { subcommand } from '../../../cli/subcommand.js';

describe('cli subcommand', () => {
  it('declares the description, the arguments and the options in the order given', () => {
    const parent = new Command('lifeboat');
    const child = subcommand(parent, 'diff', {
      description: 'what changed',
      arguments: [
        ['<from>', 'the older backup'],
        ['[to]', 'the newer backup'],
      ],
      options: [
        new Option('--store <url>', 'backup store').makeOptionMandatory(),
        new Option('--details', 'every object'),
      ],
    });
    assert.equal(parent.commands[0], child);
    assert.equal(child.name(), 'diff');
    assert.equal(child.description(), 'what changed');
    assert.deepEqual(
      child.registeredArguments.map((a) => [a.name(), a.required, a.description]),
      [
        ['from', true, 'the older backup'],
        ['to', false, 'the newer backup'],
      ],
    );
    assert.deepEqual(
      child.options.map((o) => [o.long, o.mandatory]),
      [
        ['--store', true],
        ['--details', false],
      ],
    );
  });

  it('declares a command without arguments', () => {
    const child = subcommand(new Command('lifeboat'), 'get', {
      description: 'list',
      options: [],
    });
    assert.deepEqual(child.registeredArguments, []);
    assert.deepEqual(child.options, []);
  });
});
