import os
p = os.path.join("a", "b")
print(p)
