/**
 * The fixed English text the built-in model's BPE merges are learned from. Changing a single
 * character changes the vocabulary and therefore the built-in model's bytes: bump
 * BUILTIN_GENERATOR_VERSION in builtin-model.ts when you edit it.
 */
export const BUILTIN_CORPUS = `The small town sat at the edge of a wide green valley, where the river turned slowly toward the sea. Every morning the baker opened his shop before the sun was up, and the smell of warm bread drifted down the main street. People said that you could find your way home in the dark just by following it.

In the spring the children walked to school along the river path. They counted the boats, named the birds they saw, and argued about which of them would be the first to swim across when the water grew warm again. Their teacher, a patient woman with a quiet voice, told them that the river had been there long before the town and would be there long after it.

A computer is a machine that follows instructions. It reads a number, does something with it, and writes a new number somewhere else. That sounds simple, and it is, but a modern processor can do this billions of times every second. When many simple steps are put together in the right order, the result can look almost like thinking.

Language models learn to predict the next word in a sentence. They are trained on large amounts of text, and over time they learn which words tend to follow which. A model does not read letters the way people do; it reads tokens, which are small pieces of words. Common words are often a single token, while rare words are split into several parts.

User: What is the weather like today?
Assistant: It is sunny and warm, with a light wind from the west. It should stay dry until the evening.
User: Can you help me write a short letter to my friend?
Assistant: Of course. Tell me what you would like to say, and I will help you find the right words.
System: You are a helpful assistant. Answer clearly and keep your replies short.

To make a simple tomato soup, you need four ripe tomatoes, one onion, two cloves of garlic, a little olive oil, salt, and about two cups of water. Cut the onion and cook it in the oil until it is soft. Add the garlic, then the tomatoes, and let everything cook for ten minutes. Pour in the water, bring it to a boil, and then let it simmer for another twenty minutes before you blend it.

There are 7 days in a week, 12 months in a year, and 365 days in most years. A leap year has 366 days. In 2024 there were 29 days in February. The distance from the Earth to the Moon is about 384,400 kilometers, and light needs a little more than one second to travel that far.

"Where are we going?" she asked. "Somewhere we have never been," he answered, and he smiled as the train pulled out of the station. The fields went by, then the forests, then a long line of hills that looked blue in the afternoon light. Neither of them said anything for a long time, and neither of them needed to.

Good software is written for the people who will read it later. Names should say what a thing is, small functions should do one job, and comments should explain why the code is written the way it is. Tests help you change the code without fear, because they tell you quickly when something that used to work is broken.
`;
