"""Assessment: attendance and eligibility, assessment schemes, scores and conduct, final results and certificates."""
