# Only comments: the module's code runs one instruction, on line 0.
