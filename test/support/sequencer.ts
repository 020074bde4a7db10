import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * The files that take minutes (each more than a tenth of the suite), in the order to start them. vitest
 * starts the longest files first only once its cache has their durations; in a fresh checkout (CI) it
 * starts the largest files first, and these are small: they would start last and run alone at the end
 * while the other workers sit idle.
 */
export const LONG_FILES = ["test/bulk/large.test.ts", "test/fuzz/operations-"];

/** vitest's order, with the long files moved to the front. */
export class LongFilesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (spec: TestSpecification) => {
      const i = LONG_FILES.findIndex((part) => spec.moduleId.replace(/\\/g, "/").includes(part));
      return i < 0 ? LONG_FILES.length : i;
    };
    const sorted = await super.sort(files);
    return sorted
      .map((spec, i) => ({ spec, i }))
      .sort((a, b) => rank(a.spec) - rank(b.spec) || a.i - b.i)
      .map(({ spec }) => spec);
  }
}
