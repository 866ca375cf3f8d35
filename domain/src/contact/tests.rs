// Given/when/then tests: filled in below.
