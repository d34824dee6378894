"""Procedures: the published version in the database is a procedure's truth. `files` reads and writes the folder
layout of workflows/ (the seed and export format), `check` refuses what cannot run, `versions` publishes
immutable versions, makes one current (a rollback is making an earlier one current) and hands a case its own."""
