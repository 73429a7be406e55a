/**
 * @packageDocumentation
 * Helpers for Wormhole's end-to-end tests: child-process lifecycle and test trees.
 * The tests themselves live in `test/`.
 */
export { type ChildHandle, spawnTsChild } from './spawn-ts-child.js';
export { makeTestTree, type TestTree } from './test-tree.js';
