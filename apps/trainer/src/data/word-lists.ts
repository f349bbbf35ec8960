/** Vocabulary shared by the pretraining corpus and the instruction tasks, so the base model has seen every word. */
export const FIRST_NAMES = ['Alice', 'Bob', 'Carla', 'David', 'Elena', 'Frank', 'Grace', 'Hugo', 'Irene', 'James', 'Karen', 'Liam', 'Maria', 'Nina', 'Oscar', 'Paula', 'Quinn', 'Rosa', 'Sam', 'Tina', 'Victor', 'Wendy', 'Yusuf', 'Zoe'];
export const LAST_NAMES = ['Smith', 'Brown', 'Garcia', 'Miller', 'Davis', 'Lopez', 'Wilson', 'Moore', 'Taylor', 'Clark', 'Lewis', 'Walker', 'Young', 'King', 'Wright', 'Hill'];
export const ORGS = ['Google', 'Apple', 'Siemens', 'Reuters', 'Toyota', 'Nokia', 'Airbus', 'Oxfam', 'UNICEF', 'Intel', 'Shell', 'Nestle', 'Boeing', 'Samsung', 'Unilever', 'Microsoft'];
export const CITIES = ['Paris', 'London', 'Berlin', 'Madrid', 'Tokyo', 'Cairo', 'Lima', 'Oslo', 'Rome', 'Vienna', 'Dublin', 'Lisbon', 'Boston', 'Sydney', 'Toronto', 'Nairobi'];
export const MISC = ['Olympics', 'Christmas', 'Euro', 'Oscars', 'Ramadan', 'Wimbledon', 'Brexit', 'Nobel Prize'];
export const POSITIVE = ['wonderful', 'great', 'excellent', 'lovely', 'amazing', 'delightful', 'superb', 'fantastic', 'pleasant', 'brilliant'];
export const NEGATIVE = ['terrible', 'awful', 'boring', 'horrible', 'dreadful', 'poor', 'disappointing', 'bad', 'dull', 'miserable'];
export const THINGS = ['food', 'film', 'hotel', 'book', 'service', 'concert', 'phone', 'game', 'room', 'show', 'coffee', 'trip'];
export const NOUNS = ['apple', 'river', 'house', 'garden', 'window', 'bottle', 'train', 'cloud', 'paper', 'chair', 'forest', 'candle', 'letter', 'bridge', 'stone', 'mirror', 'table', 'flower', 'horse', 'ocean'];
export const COLORS = ['red', 'blue', 'green', 'yellow', 'black', 'white', 'orange', 'purple'];
export const ANIMALS = ['cat', 'dog', 'horse', 'owl', 'fox', 'rabbit', 'lion', 'bear'];
export const JOBS = ['teacher', 'doctor', 'pilot', 'baker', 'lawyer', 'nurse', 'farmer', 'painter'];
export const NUMBER_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten'];
