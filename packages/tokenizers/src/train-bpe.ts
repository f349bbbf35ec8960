export function trainBpe(){throw new Error('todo')} export type TrainBpeOptions = {};
