// Flink's process memory derivation (issue 17 row 4). Expected sizes worked out by hand from Flink's defaults
// (metaspace 256m, overhead 10 % within [192m, 1g], framework heap and off-heap 128m each, managed 40 %, network 10 %
// within [64m, 1g], JobManager off-heap 128m) and the order in which ProcessMemoryUtils reads the keys.
import { expect } from 'chai';
import { deriveProcessMemory, type MemoryComponent } from '../../api/flink-memory.js';

const MiB = 2n ** 20n;

interface Case {
  what: string;
  component: MemoryComponent;
  config: Record<string, string>;
  /** The process size in MiB, or the words the refusal must contain. */
  expected: number | RegExp;
}

const cases: Case[] = [
  // Total process memory given.
  {
    what: "Flink's default TaskManager size",
    component: 'taskmanager',
    config: { 'taskmanager.memory.process.size': '1728m' },
    expected: 1728,
  },
  {
    what: 'a TaskManager smaller than its metaspace and minimum overhead',
    component: 'taskmanager',
    config: { 'taskmanager.memory.process.size': '100m' },
    expected: /JVM metaspace \(256mb\) and JVM overhead \(192mb\) exceed/,
  },
  // 700m leaves 252m of Flink memory, less than framework 256m alone.
  {
    what: 'a TaskManager too small for framework, managed and network memory',
    component: 'taskmanager',
    config: { 'taskmanager.memory.process.size': '700m' },
    expected: /exceed the total Flink memory/,
  },
  {
    what: 'a 1g TaskManager (576m of Flink memory covers 550.4m of fixed parts)',
    component: 'taskmanager',
    config: { 'taskmanager.memory.process.size': '1g' },
    expected: 1024,
  },
  {
    what: 'a JobManager whose Flink memory (152m) exceeds its off-heap',
    component: 'jobmanager',
    config: { 'jobmanager.memory.process.size': '600m' },
    expected: 600,
  },
  {
    what: 'a JobManager whose Flink memory (52m) is below its off-heap',
    component: 'jobmanager',
    config: { 'jobmanager.memory.process.size': '500m' },
    expected: /is not more than jobmanager\.memory\.off-heap\.size/,
  },
  // Total Flink memory given: the overhead is derived as f/(1-f) of Flink + metaspace, then capped.
  {
    what: 'a JobManager from 1g of Flink memory (1g + 256m + 192m)',
    component: 'jobmanager',
    config: { 'jobmanager.memory.flink.size': '1g' },
    expected: 1472,
  },
  {
    what: 'a JobManager with less Flink memory than off-heap',
    component: 'jobmanager',
    config: { 'jobmanager.memory.flink.size': '100m' },
    expected: /is not more than/,
  },
  {
    what: 'both totals, leaving 768m of overhead',
    component: 'taskmanager',
    config: { 'taskmanager.memory.flink.size': '1g', 'taskmanager.memory.process.size': '2g' },
    expected: 2048,
  },
  {
    what: 'both totals, leaving 2816m of overhead (above 1g)',
    component: 'taskmanager',
    config: { 'taskmanager.memory.flink.size': '1g', 'taskmanager.memory.process.size': '4g' },
    expected: /outside \[192mb, 1gb\]/,
  },
  {
    what: 'a task heap that leaves no room in the Flink memory',
    component: 'taskmanager',
    config: { 'taskmanager.memory.flink.size': '1g', 'taskmanager.memory.task.heap.size': '900m' },
    expected: /exceed taskmanager\.memory\.flink\.size/,
  },
  // Fine-grained: the JobManager heap plus 128m off-heap, then metaspace, then the 192m minimum overhead.
  {
    what: 'a JobManager from its heap',
    component: 'jobmanager',
    config: { 'jobmanager.memory.heap.size': '1g' },
    expected: 1600,
  },
  {
    what: 'a JobManager heap that disagrees with its Flink memory',
    component: 'jobmanager',
    config: { 'jobmanager.memory.heap.size': '1g', 'jobmanager.memory.flink.size': '1g' },
    expected: /differ from jobmanager\.memory\.flink\.size/,
  },
  {
    what: 'a TaskManager task heap alone is not enough (falls through to nothing)',
    component: 'taskmanager',
    config: { 'taskmanager.memory.task.heap.size': '1g' },
    expected: /none of/,
  },
  // Legacy keys stand in for the new ones only when those are absent.
  {
    what: 'the legacy jobmanager.heap.size',
    component: 'jobmanager',
    config: { 'jobmanager.heap.size': '1g' },
    expected: 1600,
  },
  {
    what: 'the legacy jobmanager.heap.mb',
    component: 'jobmanager',
    config: { 'jobmanager.heap.mb': '1024' },
    expected: 1600,
  },
  {
    what: 'the legacy taskmanager.heap.size as the process size',
    component: 'taskmanager',
    config: { 'taskmanager.heap.size': '1g' },
    expected: 1024,
  },
  {
    what: 'a new key beats the legacy one',
    component: 'taskmanager',
    config: { 'taskmanager.heap.size': '100m', 'taskmanager.memory.process.size': '1g' },
    expected: 1024,
  },
  // Unreadable values are refusals, present-but-blank included.
  { what: 'nothing set', component: 'jobmanager', config: {}, expected: /none of/ },
  {
    what: 'a blank process size',
    component: 'taskmanager',
    config: { 'taskmanager.memory.process.size': '' },
    expected: /is not a memory size/,
  },
  {
    what: 'an unreadable overhead fraction',
    component: 'taskmanager',
    config: { 'taskmanager.memory.process.size': '2g', 'taskmanager.memory.jvm-overhead.fraction': 'lots' },
    expected: /is not a number/,
  },
  {
    what: 'an overhead minimum above its maximum',
    component: 'jobmanager',
    config: { 'jobmanager.memory.process.size': '2g', 'jobmanager.memory.jvm-overhead.min': '2g' },
    expected: /inconsistent/,
  },
  {
    what: 'a size past 2^63-1 bytes',
    component: 'jobmanager',
    config: { 'jobmanager.memory.process.size': '9000000000000t' },
    expected: /is not a memory size/,
  },
  {
    what: 'a network range under its deprecated names',
    component: 'taskmanager',
    config: {
      'taskmanager.memory.flink.size': '1g',
      'taskmanager.memory.task.heap.size': '100m',
      'taskmanager.network.memory.max': '64m',
    },
    expected: /network memory left/,
  },
];

describe('Flink process memory derivation (issue 17 row 4)', () => {
  for (const c of cases) {
    it(`${c.component}: ${c.what} → ${typeof c.expected === 'number' ? `${c.expected} MiB` : 'refused'}`, () => {
      const derived = deriveProcessMemory(c.config, c.component);
      if (typeof c.expected === 'number') {
        expect(
          derived,
          JSON.stringify(derived, (_, v: unknown) => (typeof v === 'bigint' ? String(v) : v)),
        ).to.deep.equal({ ok: true, processBytes: BigInt(c.expected) * MiB });
      } else {
        expect(derived.ok).to.equal(false);
        if (!derived.ok) expect(derived.problem).to.match(c.expected);
      }
    });
  }
});
