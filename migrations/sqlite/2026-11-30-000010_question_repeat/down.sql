DROP INDEX questions_repeat;
