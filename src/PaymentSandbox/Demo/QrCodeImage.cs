using QRCoder;
using Sagas.PaymentSandbox.Http;
using Sagas.PaymentSandbox.Payments;
using Sagas.ServiceDefaults.Http;

namespace Sagas.PaymentSandbox.Demo;

/// <summary>
/// <c>GET /sandbox/qr-payments/{providerReference}/qr.png</c>: the payment's <c>qrPayload</c> as the
/// customer would see it on a screen, a scannable QR code.
/// </summary>
public static class QrCodeImage
{
    const int PixelsPerModule = 8;

    public static IEndpointRouteBuilder MapQrCodeImage(this IEndpointRouteBuilder app)
    {
        app.MapGet("/sandbox/qr-payments/{providerReference}/qr.png", PngAsync);
        return app;
    }

    static async Task<IResult> PngAsync(string providerReference, PaymentLedger ledger, CancellationToken cancellationToken)
    {
        if (await ledger.FindAsync(providerReference, cancellationToken) is not { } payment)
            return Problems.NotFound($"No payment '{providerReference}'.");
        var png = PngByteQRCodeHelper.GetQRCode(payment.QrPayload, QRCodeGenerator.ECCLevel.M, PixelsPerModule);
        return TypedResults.File(png, "image/png");
    }
}
