"""The answers stage: blocks aligned to the rubric's questions, and the answer read for a part."""
