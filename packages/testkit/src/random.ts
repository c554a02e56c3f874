// The one seeded generator of the repository is the simulator's (mulberry32): tests and benches use the
// same numbers as the emulators they drive.
export { prng as seededRandom } from '@tillwatch/simulator';
