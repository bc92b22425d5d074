"""The Natural Explain dock: input, model, band mapping, methods with their cost, AOI, device, Run and Cancel."""
