import { fuzzOperations } from "./runner";

// The operations are split over two files by position so the two halves run in parallel.
fuzzOperations("fuzzing (odd operations)", (i) => i % 2 === 1);
