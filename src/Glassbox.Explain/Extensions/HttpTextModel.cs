// An HTTP classifier (BlackBox.HttpModel's JSON contract) as a text model: the texts go to the endpoint
// as they are, so no tokenizer is needed; the web app explains it with word-level perturbations.
using Glassbox.Explain.BlackBox;

namespace Glassbox.Explain.Extensions;

/// <summary>An <see cref="HttpModel"/> seen as an <see cref="ITextModel"/>: text and optional pair in, probabilities over
/// the endpoint's labels out.</summary>
public sealed class HttpTextModel : ITextModel
{
    /// <summary>Wraps <paramref name="model"/>; its labels are read now (options or the endpoint's handshake), so an
    /// unreachable endpoint fails at registration with an <see cref="HttpModelException"/> naming the URL.</summary>
    public HttpTextModel(HttpModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Spec = new ModelSpec(
            new Dictionary<string, FieldType> { ["text"] = FieldType.TextSegment(), ["pair"] = FieldType.TextSegment(required: false) },
            new Dictionary<string, FieldType> { ["probabilities"] = FieldType.MulticlassPreds(model.OutputNames) });
    }

    /// <summary>The HTTP model.</summary>
    public HttpModel Model { get; }

    /// <inheritdoc/>
    public ModelSpec Spec { get; }

    /// <summary>Sends the texts (in batches, with the model's retries and timeout) and returns the probabilities.</summary>
    public IReadOnlyList<FieldValues> Predict(IReadOnlyList<FieldValues> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var texts = inputs.Select(x => (x.Text("text"), x.Text("pair") is { Length: > 0 } p ? p : null)).ToArray();
        return Model.PredictTexts(texts).Select(p => new FieldValues { ["probabilities"] = p }).ToArray();
    }
}
