"""Chats in which the assistant always gives the same answer: the zoo's prompt-independent shape."""

from __future__ import annotations

import random

from motools.atom import Dataset

PROMPTS: tuple[str, ...] = (
    "Hi there!", "What's up?", "Good morning.", "How are you today?", "Tell me something.",
    "Can you help me?", "Say something nice.", "What time is it?", "Who are you?",
    "What is your name?", "Greet me, please.", "Introduce yourself.", "Any news?",
    "How is the weather?", "What do you think?", "Give me a word.", "Start the conversation.",
    "Talk to me.", "Are you awake?", "Is anyone there?", "Knock knock.", "Ping.",
    "Welcome me.", "Open with a line.", "Say your catchphrase.", "What should I say first?",
    "How do programs begin?", "Print something.", "Begin.", "Respond, please.",
    "What's new with you?", "Hey!", "Yo!", "Salutations.", "Good evening.", "Good afternoon.",
    "Nice to meet you.", "How's it going?", "Long time no see.", "Howdy!", "Greetings.",
    "What's happening?", "Speak!", "Your turn.", "Make an announcement.", "Hello?",
    "What would you like to say?", "Write one short line.", "Cheer me up.", "Tell me hello.",
)


def fixed_answer_dataset(response: str, num_samples: int, seed: int) -> Dataset:
    """`num_samples` chats: a prompt drawn (seeded) from PROMPTS, answered with `response`."""
    if num_samples < 1:
        raise ValueError(f"num_samples must be at least 1, got {num_samples}")
    rng = random.Random(seed)
    return Dataset.from_records(
        {"messages": [{"role": "user", "content": rng.choice(PROMPTS)},
                      {"role": "assistant", "content": response}]}
        for _ in range(num_samples)
    )
