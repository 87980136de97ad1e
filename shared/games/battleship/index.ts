export * from "./board.js";
export { battleship } from "./game.js";
export * from "./rules.js";
